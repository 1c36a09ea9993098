package signin

// Step is where a sign-in goes next: each has a page at the gate.
type Step int

// The steps of a sign-in.
const (
	// Login asks users who name themselves (identity none) for a name or number.
	Login Step = iota + 1
	// Enroll asks for a first phone (a first factor with enrollment open,
	// or an invite).
	Enroll
	// Verify asks for the code (or offers to send one).
	Verify
	// Closed is a dead end: no phone, and nobody may enroll one here.
	Closed
)

// String is the step's page name (login, enroll, verify, closed).
func (s Step) String() string {
	switch s {
	case Login:
		return "login"
	case Enroll:
		return "enroll"
	case Verify:
		return "verify"
	case Closed:
		return "closed"
	}
	return "unknown"
}
