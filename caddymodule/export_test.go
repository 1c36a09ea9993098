package caddymodule

import (
	"net/http"
)

func newRequestWithCookie(header string) (*http.Request, error) {
	r, err := http.NewRequest(http.MethodGet, "http://localhost/", nil)
	r.Header.Set("Cookie", header)
	return r, err
}
