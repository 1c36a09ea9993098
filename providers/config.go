package providers

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/caddyserver/caddy/v2"
)

// Decode reads one provider's config into its module, unprovisioned:
// enough to check what the config says before anything is loaded.
func Decode(raw json.RawMessage) (caddy.Module, error) {
	var head struct {
		Provider string `json:"provider"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("provider: %v", err)
	}
	info, err := caddy.GetModule("smsgate.providers." + head.Provider)
	if err != nil {
		return nil, fmt.Errorf("provider %q: %v", head.Provider, err)
	}
	m := info.New()
	if err := json.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("provider %s: %v", head.Provider, err)
	}
	if _, ok := m.(Sender); !ok {
		return nil, fmt.Errorf("module %T is not a smsgate provider", m)
	}
	return m, nil
}

// Name is the i-th provider's name in a chain (counted from 0): its own
// (Naming), or its module's and place (webhook.2).
func Name(m caddy.Module, i int) string {
	if n, ok := m.(interface{ ProviderName() string }); ok && n.ProviderName() != "" {
		return n.ProviderName()
	}
	return m.CaddyModule().ID.Name() + "." + strconv.Itoa(i+1)
}
