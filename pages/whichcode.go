package pages

import (
	"errors"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/words"
)

// whichCode names the field whose code was wrong, on a page that asks for
// two (a texted or called code, and one from her app): "Wrong code" there
// leaves her to guess which (walk33). id is the words' ID for it
// ("code.wrong_app", "code.wrong_texted", "code.wrong_called"), whose
// number says what it counts: a texted or called code's own tries, or
// (_locks, and an app's) the wrong codes before sign-in locks, whichever
// comes first (enrollment.WrongCodeError.Locks). d.Error is
// left as it is for any other error, or when the page asks for one code.
// Nothing typed is echoed: the field whose code was right was never sent
// with the other's form.
func (p *Pages) whichCode(req *request, d *pageData, err error, id string) {
	var wrong *enrollment.WrongCodeError
	if !errors.As(err, &wrong) || !d.Pending || !d.App || d.NoPhone || d.LockedFor > 0 {
		return
	}
	if locks, ok := locksIDs[id]; ok && wrong.Locks { // an app's words always count toward the lock
		id = locks
	}
	d.Error = p.Words.Render(req.lang, words.Text{ID: id, Args: map[string]any{"n": wrong.Left}})
}

// textedOrCalled is the words' ID of a wrong code that came by text, or by
// call.
func textedOrCalled(c *enrollment.Challenge) string {
	if c != nil && c.Channel == factor.ChannelVoice {
		return "code.wrong_called"
	}
	return "code.wrong_texted"
}

// locksIDs are a texted or called code's words where its number counts
// the wrong codes before sign-in locks, not this code's tries.
var locksIDs = map[string]string{"code.wrong_texted": "code.wrong_texted_locks", "code.wrong_called": "code.wrong_called_locks"}
