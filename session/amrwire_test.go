package session

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/factor"
)

// TestAMRAsEarlierReleasesWroteIt: a session's claims, a trusted browser
// and a listed session hold their amr as factor.AMR now, where earlier
// releases wrote plain strings: what they wrote reads as the same kinds,
// and is written back byte for byte.
func TestAMRAsEarlierReleasesWroteIt(t *testing.T) {
	t.Parallel()
	want := []factor.AMR{factor.AMROTP, factor.AMRSMS, factor.AMRSoftware, factor.AMRHardware, factor.AMRTel, factor.AMRRecovery}
	for _, rec := range []struct {
		name, raw string
		into      any
	}{
		{name: "claims", raw: `{"sub":"alice","auth_time":1796119200,"amr":["otp","sms","swk","hwk","tel","recovery"],"sid":"s1"}`, into: &Claims{}},
		{name: "trust", raw: `{"id":"t1","browser":"Firefox on Linux","created":"2026-12-01T10:00:00Z","expires":"2026-12-31T10:00:00Z","auth_time":1796119200,"amr":["otp","sms","swk","hwk","tel","recovery"]}`, into: &TrustedBrowser{}},
		{name: "listed", raw: `{"sid":"s1","issued":"2026-12-01T10:00:00Z","expires":"2026-12-01T22:00:00Z","amr":["otp","sms","swk","hwk","tel","recovery"],"where":{}}`, into: &Info{}},
	} {
		if err := json.Unmarshal([]byte(rec.raw), rec.into); err != nil {
			t.Fatalf("%s: %v", rec.name, err)
		}
		var got []factor.AMR
		switch v := rec.into.(type) {
		case *Claims:
			got = v.AMR
		case *TrustedBrowser:
			got = v.AMR
		case *Info:
			got = v.AMR
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: amr %v, want %v", rec.name, got, want)
		}
		out, err := json.Marshal(rec.into)
		if err != nil || !strings.Contains(string(out), `"amr":["otp","sms","swk","hwk","tel","recovery"]`) {
			t.Errorf("%s written back: %s, %v", rec.name, out, err)
		}
	}
}
