package caddymodule_test

import "testing"

// TestAnUnclosedIdentityPlaceholderIsRefused: identity with a placeholder
// left unclosed ({http.auth.user.id) is refused at its line. Before, it
// loaded: Caddy keeps an unclosed placeholder as it is written, so every
// visitor was signed in as the one user "{http.auth.user.id".
func TestAnUnclosedIdentityPlaceholderIsRefused(t *testing.T) {
	t.Parallel()
	const want = "identity must be a placeholder such as {http.auth.user.id}, or none"
	refusedFromBoth(t, "identity {http.auth.user.id", `"identity": "{http.auth.user.id"`, "Caddyfile:11", want, want)
	// Beside a whole placeholder, the unclosed one still names every
	// visitor of a tenant the same.
	refusedFromBoth(t, "identity {http.auth.user.id-{http.auth.user.tenant}", `"identity": "{http.auth.user.id-{http.auth.user.tenant}"`, "Caddyfile:11", want, want)
}
