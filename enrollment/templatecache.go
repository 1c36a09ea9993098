package enrollment

import "sync"

// Every gate's Provision, and its Caddyfile's adapting, parses its
// message templates and fits them to its site (caddymodule's
// gate.templates): nearly always the default templates, the same site
// names, again at every reload. A Templates never changes once made (a
// text/template executes safely in parallel), so those parsed are kept by
// their texts and shared, and each keeps what Fit answered for the
// built-in words by site, host and code length. Both are bounded: past
// their bound (an admin's own templates changed reload after reload, or
// sites without end) they start again empty. They hold templates and site
// names from the config, nothing of a user.

// maxKept bounds both: the templates kept, and the fits kept for each.
const maxKept = 64

// parsed is the templates ParseTemplates made, by their texts.
var parsed templateCache

type templateCache struct {
	mu sync.Mutex
	m  map[[2]string]*Templates
}

// get answers the templates of sms and voice, parsed once. A template
// refused (it does not parse, or never says the code) is not kept: it is
// refused again each time.
func (c *templateCache) get(sms, voice string) (*Templates, error) {
	key := [2]string{sms, voice}
	c.mu.Lock()
	t := c.m[key]
	c.mu.Unlock()
	if t != nil {
		return t, nil
	}
	t, err := parseTemplates(sms, voice)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if kept := c.m[key]; kept != nil { // parsed meanwhile by another
		return kept, nil
	}
	if c.m == nil || len(c.m) >= maxKept {
		c.m = make(map[[2]string]*Templates)
	}
	c.m[key] = t
	return t, nil
}

// fitKey is what Fit's answer depends on besides the templates: the
// site, and whether the words are the built-in ones or none (English only).
type fitKey struct {
	site, host string
	codeLength int
	noWords    bool
}
