package session

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/factor"
)

// TestADevicesEndSparesTheRecoverySessionThatAskedForIt: the end of a
// device removed from a recovery code's session naming it (Keep) spares
// that session, in the store's record (put back and imported as it is)
// and from what the revocation log told a gate; another session of the
// device, a recovery code's too, ends. A session the device's own code
// earned ends with it even where it asks (EndsWith).
func TestADevicesEndSparesTheRecoverySessionThatAskedForIt(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_800_000_000, 0)
	end := start.Add(time.Hour)
	lost := "lost"
	session := func(sid string) *Claims {
		return &Claims{SID: sid, Device: &lost, AMR: []factor.AMR{factor.AMRRecovery},
			RegisteredClaims: jwt.RegisteredClaims{Subject: "alice", IssuedAt: jwt.NewNumericDate(end.Add(-time.Minute))}}
	}
	hers, thiefs := session("hers"), session("thiefs")
	var c coverage
	c.reset(start)
	c.add(end, revocation{Realm: "localhost", Of: "alice", Device: lost, At: end.UnixNano(), Keep: "hers"}, 12*time.Hour)
	if c.revokes(hers) || !c.revokes(thiefs) {
		t.Errorf("told by the log: hers revoked %v, the thief's %v; want only his", c.revokes(hers), c.revokes(thiefs))
	}
	var held deviceEnd
	if d := c.knownDevices()[deviceOf("alice", lost)]; d.end.Keep != "hers" {
		t.Errorf("put back: %+v; want her session kept", d)
	} else if err := json.Unmarshal(d.end.record(), &held); err != nil || held.ends(hers) || !held.ends(thiefs) {
		t.Errorf("as stored: %s (%v); want only the thief's ended", d.end.record(), err)
	}
	if hers.EndsWith(lost) {
		t.Error("a recovery code's session ends with the device it names at its own removal")
	}
	if sms := (&Claims{Device: &lost, AMR: []factor.AMR{factor.AMRSMS}}); !sms.EndsWith(lost) {
		t.Error("a session the device's own code earned outlives its removal")
	}
}
