package pages

import (
	"context"
	"net/http"

	"go.uber.org/zap"
)

// enrollPaused answers, and reports true, when a new user may not enroll
// now: the store lost its data and no admin accepted it yet. It asks the
// store at once, so that an enrollment right after a wipe is not let
// through before the watch looks. An admin's invite may go on.
func (p *Pages) enrollPaused(req *request) bool {
	if req.flow.InvitedAs(req.user) {
		return false
	}
	if req.r.Method != http.MethodGet {
		if _, err := p.Epoch.Check(req.r.Context()); err != nil { // what it notices, the gate's watch logs
			p.Logger.Error("checking the store's epoch before an enrollment", zap.Error(err))
			p.unavailable(req)
			return true
		}
	}
	if p.Epoch.Frozen() == nil {
		return false
	}
	p.fail(req, http.StatusServiceUnavailable, "enrollment_paused", p.sayID(req, "enroll.paused"))
	return true
}

// sawUsers notes that the store holds users now: losing them freezes it.
func (p *Pages) sawUsers(ctx context.Context) {
	if err := p.Epoch.SawUsers(ctx); err != nil {
		p.Logger.Error("noting that the store holds users", zap.Error(err))
	}
}
