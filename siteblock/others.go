package siteblock

import (
	"context"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/smsgate/caddy-smsgate/internal/cfutil"
)

// errorRoute is a handle_errors that runs for the gate's site: its own,
// or (site: that block's addresses) another site block's.
type errorRoute struct {
	d    *directive
	site string
}

// othersErrors are the handle_errors of another site block that Caddy runs
// for the gate's errors, its block having none of its own. Caddy puts each
// block's error routes on the server behind the block's addresses, in the
// order it tries the blocks (triedFirst), and the first whose addresses
// match ends the search (a terminal route, run even where its
// handle_errors takes other codes only): a block without handle_errors
// leaves its errors to the next one with handle_errors whose addresses
// cover its host on its port, a catch-all (http://, :80) or a wildcard
// (*.example.com beside admin.example.com). The blocks are read from the
// Caddyfile adapted, parsed again from its file (fileBlocks); none when it
// cannot be read.
func (p *Placement) othersErrors(files *sourceFiles) []errorRoute {
	var out []errorRoute
	blocks, own := p.b.fileBlocks()
	gate := p.b.sites(p.b.keys)
	for _, g := range gate {
		var pick []errorRoute
		var first []site // the addresses of pick's block
		for i, sb := range blocks {
			segs, other := segmentsOf(sb), p.b.sites(sb.GetKeysText())
			if i == own || sb.IsNamedRoute || segs == nil || binds(segs) != binds(p.b.segments) ||
				triedFirst(other, gate) || !triedFirst(gate, other) && i < own || // it takes the gate's requests itself
				!slices.ContainsFunc(other, func(s site) bool { return s.covers(g) }) {
				continue
			}
			var routes []errorRoute
			for _, d := range directivesOf(segs, files) {
				if d.name == "handle_errors" {
					routes = append(routes, errorRoute{d, strings.Join(sb.GetKeysText(), ", ")})
				}
			}
			if len(routes) > 0 && (pick == nil || triedFirst(other, first)) {
				pick, first = routes, other
			}
		}
		out = append(out, pick...)
	}
	return out
}

// site is a host (lower case; "" for every host) on a port, and a path
// ("" for every path), as a site block's address serves them.
type site struct{ host, port, path string }

// sites are what the addresses keys serve: the port written, else the
// http_port for http://, else the https_port (Caddy's defaults 80, 443).
func (b *Block) sites(keys []string) []site {
	var out []site
	for _, k := range keys {
		a, err := httpcaddyfile.ParseAddress(k)
		if err != nil {
			continue
		}
		opt, port := "https_port", "443"
		if a.Scheme == "http" {
			opt, port = "http_port", "80"
		}
		if n, ok := b.h.Option(opt).(int); ok {
			port = strconv.Itoa(n)
		}
		if a.Port != "" {
			port = a.Port
		}
		out = append(out, site{strings.ToLower(strings.TrimSuffix(a.Host, ".")), port, a.Path})
	}
	return out
}

// covers reports whether s's matcher takes requests g's address serves.
func (s site) covers(g site) bool {
	a, b := literal(s.path), literal(g.path)
	return s.port == g.port && hostMatches(s.host, g.host) && (strings.HasPrefix(a, b) || strings.HasPrefix(b, a))
}

// triedFirst reports whether Caddy tries a site block with addresses a
// before one with b, as it sorts a server's blocks (stably, in the
// Caddyfile's order): a catch-all last, one with a wildcard host after
// one without, the longest host first, then the longest path.
func triedFirst(a, b []site) bool {
	ah, ap, aw := longest(a)
	bh, bp, bw := longest(b)
	switch {
	case ah == 0:
		return false
	case bh == 0:
		return true
	case aw != bw:
		return bw
	case ah == bh:
		return ap > bp
	}
	return ah > bh
}

// longest are the length of the longest of sites' hosts (its wildcards
// not counted) and paths, and whether one host is a wildcard or none.
func longest(sites []site) (host, path int, wild bool) {
	for _, s := range sites {
		host = max(host, len(s.host)-strings.Count(s.host, "*"))
		path = max(path, len(s.path)-strings.Count(s.path, "*"))
		wild = wild || s.host == "" || strings.Contains(s.host, "*")
	}
	return host, path, wild
}

// hostMatches reports whether Caddy's host matcher of an address's host
// (none: every host) matches a request for host.
func hostMatches(pattern, host string) bool {
	if pattern == "" {
		return true
	}
	m := caddyhttp.MatchHost{pattern}
	if m.Provision(caddy.Context{}) != nil {
		return false
	}
	r := (&http.Request{Host: cfutil.ASCIIHost(host)}).WithContext(context.WithValue(context.Background(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
	ok, err := m.MatchWithError(r)
	return ok && err == nil
}

// binds are the bind directives' addresses of a block: blocks that bind
// otherwise are on other servers.
func binds(segs [][]token) string {
	var out []string
	for _, seg := range segs {
		if len(seg) > 0 && seg[0].text == "bind" {
			out = append(out, args(seg)...)
		}
	}
	return strings.Join(out, " ")
}

// fileBlocks are the site blocks of the Caddyfile adapted, read again
// from its file (the adapter's filename option, which the caddy commands
// give: run, reload, adapt, validate) and parsed as Caddy does (imports,
// snippets, environment variables), once an adaptation, and which of them
// is b; none without a file (a Caddyfile posted to the admin API, or from
// stdin), or when it is not the Caddyfile adapted (no block there is b as
// Caddy handed it: the file changed on disk since).
func (b *Block) fileBlocks() ([]caddyfile.ServerBlock, int) {
	blocks, ok := b.h.State["smsgate.blocks"].([]caddyfile.ServerBlock)
	if !ok {
		name, _ := b.h.Option("filename").(string)
		if raw, err := os.ReadFile(name); name != "" && err == nil {
			blocks, _ = caddyfile.Parse(name, raw)
		}
		if b.h.State != nil {
			b.h.State["smsgate.blocks"] = blocks
		}
	}
	own := slices.IndexFunc(blocks, func(sb caddyfile.ServerBlock) bool { return sameBlock(sb, b.keys, b.segments) })
	if own < 0 {
		return nil, -1
	}
	return blocks, own
}

// sameBlock reports whether sb has the addresses keys and, directive by
// directive, the segments segs begin with (file, line and name).
func sameBlock(sb caddyfile.ServerBlock, keys []string, segs [][]token) bool {
	if keys == nil || !slices.Equal(sb.GetKeysText(), keys) || len(sb.Segments) != len(segs) {
		return false
	}
	for i, seg := range sb.Segments {
		if len(seg) == 0 || len(segs[i]) == 0 || seg[0].File != segs[i][0].file || seg[0].Line != segs[i][0].line || seg[0].Text != segs[i][0].text {
			return false
		}
	}
	return true
}

// segmentsOf are sb's segments as the checks read tokens, or nil.
func segmentsOf(sb caddyfile.ServerBlock) [][]token {
	var out [][]token
	for _, seg := range sb.Segments {
		toks, ok := tokens(reflect.ValueOf([]caddyfile.Token(seg)))
		if !ok {
			return nil
		}
		out = append(out, toks)
	}
	return out
}
