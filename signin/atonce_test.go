package signin

import "os"

// atOnce is how many times a race test whose interleavings are forced
// (storetest.Interleaver) plays its race at once after them: 10, 50 with
// SMSGATE_FULL=1, as session's. The interleavings find what each guards,
// checked with none at once:
// TestARecoveryCodeRacingAResetEnrollsNothing failed in them with the
// recovery enrollment stamped late and unmarked (a phone left in 2 of 9),
// TestAnInviteRacingTheEndOfItsAdminEnrolledBeforeOrNot with
// session.EndMinted a no-op, TestAnInvitesEnrollmentRacingAResetLeavesNothing
// with the invite's enrollment not checked as standing. The runs at once
// check real timing beside them; at 50 they were four fifths of those
// tests' time, the longest of this package's run.
func atOnce() int {
	if os.Getenv("SMSGATE_FULL") != "" {
		return 50
	}
	return 10
}
