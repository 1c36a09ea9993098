package pages

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/logonce"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/store"
	"go.uber.org/zap"
)

// Delivery receipts: a gateway that can (Twilio) is given a status
// callback at /.smsgate/twilio/status?r=<receipt> with each message and
// call; the gate checks its signature and keeps what it says, and the
// verify page (polling /.smsgate/status) tells the user whether the text
// arrived, offering a call when it did not.

// receiptLifetime is how long a receipt is kept: as long as its code.
const receiptLifetime = enrollment.MaxCodeTTL + time.Minute

// forgedEvery is how often a forged receipt's warning is written at most
// per source, and forgedLines how many of all sources in that time.
const (
	forgedEvery = 5 * time.Second
	forgedLines = 5
)

// receipt is what a gateway said about a message.
type receipt struct {
	Status string `json:"status"` // delivered, failed, pending
	Error  string `json:"error,omitempty"`
}

// A receipt's status only moves forward: "pending" (nothing kept) until a
// final one, "delivered" or "failed", which is written once, so that no
// later callback — a replay of a signed one, or retries out of order —
// can take it back.
func receiptKey(realm, id string) string { return store.Key("receipt", realm, id) }

// ReceiptURL is the status callback of receipt id.
func (p *Pages) ReceiptURL(id string) string {
	return p.LinkOrigin + p.PathPrefix + "twilio/status?r=" + id
}

// twilioStatus takes a status callback: only with the gateway's
// signature (403 and a warning otherwise), for a receipt the gate issued.
func (p *Pages) twilioStatus(w http.ResponseWriter, r *http.Request) error {
	if p.Receipts == nil || r.Method != http.MethodPost {
		return caddyhttp.Error(http.StatusNotFound, errNotFound)
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	if err := r.ParseForm(); err != nil {
		return caddyhttp.Error(http.StatusBadRequest, errors.New("not a form"))
	}
	// Signed over the URL the gateway was given: the configured origin,
	// never the Host of this request.
	url := p.LinkOrigin + r.URL.RequestURI()
	if !p.Receipts.VerifyReceipt(url, r.PostForm, r.Header.Get("X-Twilio-Signature")) {
		// Anyone may post here: one line per source (client IP) in 5 s, with
		// the number of its posts not written since (repeats), and at most
		// forgedLines lines of all sources in 5 s, the next line counting
		// the sources none of whose posts were written (other_sources), the
		// last of them kept for the source left unwritten longest: a flood
		// from one source does not hide another's, nor does one from many
		// fill the disk or hide a source for more than a window per source
		// ahead of it.
		ip := ClientIP(r)
		if n, others, tell := p.forged.Hidden(ip, p.Now()); tell {
			fields := []zap.Field{zap.String("event", "receipt_forged"), zap.String("ip", ip), zap.String("provider", p.ReceiptsName)}
			fields = logonce.Repeats(fields, n)
			if others > 0 {
				fields = append(fields, zap.Int("other_sources", others))
			}
			p.Logger.Warn("delivery receipt refused: its signature is wrong", fields...)
		}
		return caddyhttp.Error(http.StatusForbidden, errors.New("the receipt's signature is wrong"))
	}
	id := r.URL.Query().Get("r")
	status, code := p.Receipts.Receipt(r.PostForm)
	if id == "" || len(id) > 64 {
		return caddyhttp.Error(http.StatusBadRequest, errors.New("no receipt named"))
	}
	if status == "pending" {
		w.WriteHeader(http.StatusNoContent) // what no receipt says already
		return nil
	}
	raw, _ := json.Marshal(receipt{Status: status, Error: code})
	// The first end is kept; a "pending" record an earlier release kept
	// is replaced by it. In one atomic step: of two ends at once, one is
	// kept and counted.
	first := false
	err := p.Store.Update(r.Context(), receiptKey(p.Realm, id), func(prev []byte, found bool) ([]byte, time.Duration, error) {
		var old receipt
		if first = !found || json.Unmarshal(prev, &old) == nil && old.Status == "pending"; !first {
			return nil, 0, store.ErrUnchanged
		}
		return raw, receiptLifetime, nil
	})
	if err != nil {
		p.Logger.Error("keeping a delivery receipt", zap.Error(err))
		return caddyhttp.Error(http.StatusServiceUnavailable, errUnavailable)
	}
	if first {
		p.Metrics.Deliveries.WithLabelValues(p.ReceiptsName, phone.Region(r.PostForm.Get("To")), status).Inc()
		p.Audit("delivery_"+status, "", r.PostForm.Get("To"), zap.String("provider", p.ReceiptsName), zap.String("error_code", code))
		if p.Receipt != nil {
			p.Receipt(p.ReceiptsName, phone.Region(r.PostForm.Get("To")), status)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// delivery is what is known of challenge c's message: "delivered",
// "failed", "pending", or "" when no receipt will come — or when the
// sign-in came from a login form, where whether a text arrived would tell
// a real name (its phone) from a decoy.
func (p *Pages) delivery(req *request, c *enrollment.Challenge) string {
	if c == nil || c.Receipt == "" || (p.SignIn.Identity.NamesThemselves() && c.Purpose == enrollment.Verify) {
		return ""
	}
	raw, err := p.Store.Get(req.r.Context(), receiptKey(req.realm, c.Receipt))
	if errors.Is(err, store.ErrNotFound) {
		return "pending"
	}
	var rc receipt
	if err != nil || json.Unmarshal(raw, &rc) != nil {
		return "pending"
	}
	return rc.Status
}

// deliveryStatus serves GET /.smsgate/status: the pending code's delivery,
// for the verify page's script (and JSON clients).
func (p *Pages) deliveryStatus(req *request) {
	c, err := p.SignIn.Pending(req.r.Context(), req.realm, &req.flow.Flow, req.user)
	if err != nil {
		p.Logger.Error("reading challenge", zap.Error(err))
		p.unavailable(req)
		return
	}
	d := p.delivery(req, c)
	WriteJSON(req.w, http.StatusOK, map[string]any{
		"delivery":   d,
		"offer_call": d == "failed" && c.Channel != factor.ChannelVoice && p.offersChannel(req, factor.ChannelVoice),
	})
}
