package session

import (
	"bytes"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// After Rekey, every derived key is the one a gate that started with the
// new secret has: flows, known browsers, the flow seal, apps' secrets and
// (through OnRekey) the code key; and the old secret's tokens end.
func TestDerivedRekeysEveryKey(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Unix(1_800_000_000, 0) }
	oldSecret, newSecret := bytes.Repeat([]byte("o"), 32), bytes.Repeat([]byte("n"), 32)
	d, err := NewDerived(oldSecret, now)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := NewDerived(newSecret, now)
	if err != nil {
		t.Fatal(err)
	}
	old, err := d.Flows.Sign(d.Flows.NewClaims("realm", "alice", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var code []byte
	d.OnRekey(func(c []byte) { code = c })
	if err := d.Rekey(newSecret); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(code, fresh.Code) {
		t.Error("the code key did not follow the new secret")
	}
	for name, pair := range map[string][2]*Keys{"flows": {d.Flows, fresh.Flows}, "known": {d.Known, fresh.Known}} {
		tok, err := pair[1].Sign(pair[1].NewClaims("realm", "alice", time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := pair[0].Verify(tok, "realm", &jwt.RegisteredClaims{}); err != nil {
			t.Errorf("%s: a token of the new secret does not verify after Rekey: %v", name, err)
		}
	}
	if err := d.Flows.Verify(old, "realm", &jwt.RegisteredClaims{}); err == nil {
		t.Error("a flow of the old secret still verifies")
	}
	for name, pair := range map[string][2]*Sealer{"seal": {d.Seal, fresh.Seal}, "apps": {d.Apps, fresh.Apps}} {
		if got, err := pair[0].Open(pair[1].Seal("secret", "ctx"), "ctx"); err != nil || got != "secret" {
			t.Errorf("%s: what the new secret sealed does not open after Rekey: %q %v", name, got, err)
		}
	}
}
