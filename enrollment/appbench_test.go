package enrollment

import (
	"context"
	"testing"

	"github.com/pquerna/otp/totp"
)

// BenchmarkCheckApp is a wrong app code checked for a user with one app
// (the lockouts' and the window's store work included, on Badger).
//
//	go test ./enrollment -run '^$' -bench CheckApp -benchmem
func BenchmarkCheckApp(b *testing.B) {
	ctx := context.Background()
	s, _, clk := appService(b)
	s.Limits.Guesses.Count = 1 << 30
	s.Limits.MaxFailures, s.Limits.LockAfter = 1<<30, 1<<30
	setup, err := s.Devices.StartApp(ctx, realm, alice, "Example")
	if err != nil {
		b.Fatal(err)
	}
	code, _ := totp.GenerateCodeCustom(setup.Secret, clk.now(), appOpts)
	if _, err := s.Devices.ConfirmApp(ctx, enrolled, alice, code, ""); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = s.Devices.CheckApp(ctx, enrolled, alice, wrongOf(code))
	}
}
