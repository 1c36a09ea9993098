package session

import "time"

// Derived are the keys split from the signing secret for the gate's other
// jobs, each with its own purpose (Derive): no token or seal of one passes
// as another's. Rekey makes all of them follow a new secret at once.
type Derived struct {
	Flows  *Keys   // the sign-in's flow tokens
	Known  *Keys   // known-browser cookies
	Seal   *Sealer // the flow cookie's encryption
	Apps   *Sealer // authenticator apps' secrets in the store
	Code   []byte  // code hashes (enrollment's CodeKey), as first derived
	rekeys []func([]byte)
}

// NewDerived derives the keys from secret.
func NewDerived(secret []byte, now func() time.Time) (*Derived, error) {
	d := &Derived{Flows: NewKeys(Derive(secret, "flow"), now),
		Known: NewKeys(Derive(secret, "known browser"), now).WithType("smsgate-known+jwt"),
		Code:  CodeKeyOf(secret)}
	var err error
	if d.Seal, err = NewSealer(Derive(secret, "flow seal")); err != nil {
		return nil, err
	}
	if d.Apps, err = NewSealer(Derive(secret, "app secrets")); err != nil {
		return nil, err
	}
	return d, nil
}

// CodeKeyOf is the code key (Derived.Code) secret derives: an import
// rebuilding the records of what a previous key made (enrollment's
// passkey handles) derives it from the file's secret.
func CodeKeyOf(secret []byte) []byte { return Derive(secret, "code") }

// OnRekey has code keys made elsewhere (from Code) follow a new secret.
func (d *Derived) OnRekey(f func(code []byte)) { d.rekeys = append(d.rekeys, f) }

// Rekey derives every key again from a new secret: the flow keys first,
// so that a flow they still sign was sealed under the seal's key as it is
// (pages.saveFlow asks them only).
func (d *Derived) Rekey(secret []byte) error {
	d.Flows.Rekey(Derive(secret, "flow"))
	d.Known.Rekey(Derive(secret, "known browser"))
	if err := d.Seal.Rekey(Derive(secret, "flow seal")); err != nil {
		return err
	}
	if err := d.Apps.Rekey(Derive(secret, "app secrets")); err != nil {
		return err
	}
	code := CodeKeyOf(secret)
	for _, f := range d.rekeys {
		f(code)
	}
	return nil
}
