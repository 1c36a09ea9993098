package admin

// giveNumbers builds the config's realms once (realmsOf: each realm's gates
// on one store, with the numbers they give each provisioned user, their
// union), which the settle then keeps (settleProvisioned; a realm built
// on a failed probe is built again by the retry: regroup), and hands each
// gate its realm's numbers: a session or a trust that a config's phone
// earned stands at a gate only while one of them is its number
// (signin.Service.GiveNumbers). Before, each gate knows its own `user`
// lines, which the union holds: a gate's numbers only grow.
func (a *App) giveNumbers() {
	a.settles = a.realmsOf(a.all())
	for _, r := range a.settles {
		for i, g := range r.gates {
			g.GiveNumbers(r.given)
			r.sites[i].lockKey = r.key // for the config's life (settleKey)
		}
	}
}
