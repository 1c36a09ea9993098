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
// block's error routes on the server behind the block's addresses, most
// specific first (a host, then a wildcard, a catch-all last), and the
// first block whose addresses match ends the search (a terminal route, run
// even where its handle_errors takes other codes only): a block without
// handle_errors leaves its errors to the next one whose addresses cover
// its host on its port, a catch-all (http://, :80) or a wildcard
// (*.example.com beside admin.example.com). Those are read from the
// Caddyfile adapted, parsed again from its file (fileBlocks); none when
// it cannot be read.
func (p *Placement) othersErrors(files *sourceFiles) []errorRoute {
	var out []errorRoute
	blocks := p.b.fileBlocks()
	for _, own := range p.b.sites(p.b.keys) {
		var pick []errorRoute
		best := -1
		for _, sb := range blocks {
			segs := segmentsOf(sb)
			if sb.IsNamedRoute || len(sb.Keys) == 0 || segs == nil || binds(segs) != binds(p.b.segments) || sameBlock(sb, p.b.keys, p.b.segments) {
				continue
			}
			covers, longest := false, 0 // Caddy's specificity of its longest host
			for _, s := range p.b.sites(sb.GetKeysText()) {
				covers = covers || s.port == own.port && hostMatches(s.host, own.host)
				longest = max(longest, len(s.host)-strings.Count(s.host, "*"))
			}
			var routes []errorRoute
			for _, d := range directivesOf(segs, files) {
				if d.name == "handle_errors" {
					routes = append(routes, errorRoute{d, strings.Join(sb.GetKeysText(), ", ")})
				}
			}
			if covers && len(routes) > 0 && longest > best {
				pick, best = routes, longest
			}
		}
		out = append(out, pick...)
	}
	return out
}

// site is a host (lower case; "" for every host) on a port, as a site
// block's address serves it.
type site struct{ host, port string }

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
		out = append(out, site{strings.ToLower(strings.TrimSuffix(a.Host, ".")), port})
	}
	return out
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
// snippets, environment variables), once an adaptation; none without a
// file (a Caddyfile posted to the admin API, or from stdin), or when it
// is not the Caddyfile adapted (no block there is b as Caddy handed it:
// the file changed on disk since).
func (b *Block) fileBlocks() []caddyfile.ServerBlock {
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
	if !slices.ContainsFunc(blocks, func(sb caddyfile.ServerBlock) bool { return sameBlock(sb, b.keys, b.segments) }) {
		return nil
	}
	return blocks
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
