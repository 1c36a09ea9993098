package pages

// keepsOnly says views are a user's only device, which she may not remove
// (no allow_remove_last: enrollment.ErrLastDevice). The devices page offers
// no Remove on it and says why instead (pageData.KeepOnly); a removal asked
// from an older page is refused at once, not confirmed first — walk29: the
// confirmation promised "your other phones will be told", then the removal
// answered 400 "This is your only phone".
// A user whose phone is in the config keeps it (signin.ConfigPhone):
// her only device of her own may go.
func (p *Pages) keepsOnly(user string, views []deviceView) bool {
	return len(views) == 1 && !p.SignIn.AllowRemoveLast && p.SignIn.ConfigPhone(user) == ""
}
