// Package providers delivers verification codes. Each sender is a Caddy
// module in the `smsgate.providers` namespace, so the JSON config documents
// itself and anyone can add a gateway without forking smsgate.
package providers

import (
	"context"
	"errors"
	"fmt"
)

// Message is one code on its way to a phone.
type Message struct {
	// To is the destination in E.164 form.
	To string
	// Body is the complete text to deliver (it contains the code).
	Body string
	// Code is the bare code, for senders that format their own message.
	Code string
	// Host is the site the code is for, without port.
	Host string
}

// Sender delivers messages. Send returns once the gateway has accepted the
// message (which is not proof that it reached the phone).
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Chain tries its senders in order until one accepts the message.
type Chain []Named

// Named is a sender with the name it is known by in logs.
type Named struct {
	Name string
	Sender
}

// Send implements Sender. The error, if every sender failed, names each
// failure; it is for the admin's log, never for the user.
func (c Chain) Send(ctx context.Context, m Message) error {
	if len(c) == 0 {
		return errors.New("no provider is configured")
	}
	var errs []error
	for _, s := range c {
		err := s.Send(ctx, m)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", s.Name, err))
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}
