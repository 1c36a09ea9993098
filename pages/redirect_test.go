package pages

import "testing"

func TestSafeRedirect(t *testing.T) {
	t.Parallel()
	hosts := []string{"app.example.com", "*.corp.example"}
	for rd, want := range map[string]string{
		"/":                                       "/",
		"/grafana/d/abc?orgId=1&x=%2F":            "/grafana/d/abc?orgId=1&x=%2F",
		"https://app.example.com/x":               "https://app.example.com/x",
		"https://wiki.corp.example/":              "https://wiki.corp.example/",
		"":                                        "",
		"//evil.example":                          "",
		"//evil.example/path":                     "",
		"/\\evil.example":                         "",
		"\\\\evil.example":                        "",
		"https:evil.example":                      "",
		"https://evil.example/":                   "",
		"http://app.example.com/":                 "",
		"https://app.example.com.evil/":           "",
		"https://corp.example/":                   "",
		"https://evilcorp.example/":               "",
		"https://user@app.example.com/":           "",
		"javascript:alert(1)":                     "",
		"JaVaScRiPt:alert(1)":                     "",
		"data:text/html,hi":                       "",
		"/\t/evil.example":                        "",
		"/\n/evil.example":                        "",
		" /x":                                     "",
		"evil.example":                            "",
		"/%0d%0aSet-Cookie:x=1":                   "/%0d%0aSet-Cookie:x=1", // stays encoded: harmless in Location
		"https://app.example.com\\@evil":          "",
		"/ok/" + string(make([]byte, 3000)):       "",
		"%2F%2Fevil.example":                      "",
		"/%2F%2Fevil.example":                     "/%2F%2Fevil.example", // a path: browsers do not decode it
		"／／evil.example":                          "",
		"/∕evil.example":                          "/∕evil.example", // a path with a division slash
		"https://evil.example%2F@app.example.com": "",
		"https://app.example.com%2F.evil.example": "",
		"https://app.example.com:443/x":           "https://app.example.com:443/x",
		"https://[::1]/":                          "",
		"HTTPS://app.example.com/":                "HTTPS://app.example.com/", // schemes are case-insensitive
	} {
		if got := safeRedirect(rd, hosts); got != want {
			t.Errorf("safeRedirect(%q) = %q, want %q", rd, got, want)
		}
	}
}
