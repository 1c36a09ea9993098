package caddymodule

// admitStranger counts a request that makes the gate keep something for
// someone it does not know yet — a name typed at the login form (a real
// challenge or a decoy), a passkey sign-in begun — against what strangers
// may make it keep (enrollment.Strangers), and answers a refusal itself.
// A browser that signed in as name before (its known-browser cookie) is no
// stranger. A challenge counts in the total with its own first store work
// (Scope.Stranger), and only behind a login form (a first factor's users
// have send limits of their own); anything else (whole: a passkey
// ceremony) counts here, behind any identity.
func (g *Gate) admitStranger(req *request, name string, whole bool, refused func(error)) bool {
	if (req.known != "" && req.known == name) || (!whole && !g.signin.Identity.NamesThemselves()) {
		return true
	}
	var err error
	if whole {
		err = g.strangers.Admit(req.r.Context(), req.realm, req.scope.IP)
	} else {
		err = g.strangers.AdmitAddress(req.realm, req.scope.IP)
	}
	if err != nil {
		refused(err)
		return false
	}
	req.scope.Stranger = true
	return true
}
