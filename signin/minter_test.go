package signin

import "testing"

// TestAnAdminsInviteStandsWhereTheRealmNamesHer (minted37): two gates of
// one realm whose admins differ; an invite minted by an admin of either
// is honoured at both once they are told the realm's admins (GiveAdmins:
// an invite's link leads to the gate that takes its user, which may name
// no admin), by an admin of neither at none; before they are told, each
// gate's own. An invite that names nobody (the admin API's, the CLI's,
// the release before's) is honoured everywhere.
func TestAnAdminsInviteStandsWhereTheRealmNamesHer(t *testing.T) {
	t.Parallel()
	portal, kiosk := &Service{Admins: []string{"alice"}}, &Service{Admins: []string{"bob", "alice"}}
	none := &Service{}
	for _, g := range []*Service{portal, kiosk, none} {
		if !g.MinterStands("") {
			t.Errorf("an invite that names nobody refused at a gate of admins %v", g.Admins)
		}
	}
	if portal.MinterStands("bob") || !kiosk.MinterStands("bob") || none.MinterStands("alice") {
		t.Errorf("before the realm's admins are given, each gate's own")
	}
	realm := AdminsOf([]*Service{portal, kiosk, none})
	if len(realm) != 2 {
		t.Errorf("the realm's admins: %v", realm)
	}
	for _, g := range []*Service{portal, kiosk, none} {
		g.GiveAdmins(realm)
		if !g.MinterStands("alice") || !g.MinterStands("bob") || g.MinterStands("mallory") {
			t.Errorf("a gate of admins %v, given the realm's %v: alice %v, bob %v, mallory %v",
				g.Admins, realm, g.MinterStands("alice"), g.MinterStands("bob"), g.MinterStands("mallory"))
		}
	}
}
