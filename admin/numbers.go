package admin

import "slices"

// giveNumbers hands each gate of the config that starts the numbers the
// gates of its realm on its store give each provisioned user (their
// union, as signin.SettleProvisioned settles them): a session or a trust
// that a config's phone earned stands at a gate only while one of them
// is its number (signin.Service.GiveNumbers). Before, each gate knows its
// own `user` lines, which the union holds: a gate's numbers only grow.
func (a *App) giveNumbers() {
	for _, s := range a.all() {
		if s.SignIn == nil {
			continue
		}
		given := map[string][]string{}
		for _, g := range s.realmGates() {
			if g.SignIn == nil {
				continue
			}
			for name, u := range g.SignIn.Users {
				given[name] = append(given[name], u.Phone)
			}
		}
		for name, numbers := range given {
			slices.Sort(numbers)
			given[name] = slices.Compact(numbers)
		}
		s.SignIn.GiveNumbers(given)
	}
}
