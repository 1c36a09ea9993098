// Package words holds every text smsgate shows people, in one place: the
// errors of the sign-in carry a message id and its arguments (a Text), and
// a Catalogue renders them in the reader's language (English and German
// built in, an admin's own catalogues on top). No sentence for people is
// built anywhere else.
package words

import (
	"errors"
	"time"
)

// Text is words for people, not yet in a language: a message id and its
// arguments, by name ({n}, {wait}, {example}).
type Text struct {
	ID   string
	Args map[string]any
}

// Error is an error that says something to people. Its Error() is the
// English text (for logs and tests); pages render Words() in the
// reader's language.
type Error struct {
	text Text
}

// New returns an error with message id and no arguments (a sentinel:
// compare it with errors.Is).
func New(id string) *Error { return &Error{text: Text{ID: id}} }

// Newf returns an error with message id and arguments, as name, value
// pairs: Newf("code.wrong", "n", 3).
func Newf(id string, args ...any) *Error {
	return &Error{text: Text{ID: id, Args: pairs(args)}}
}

// Say is id with arguments as name, value pairs, not yet in a language.
func Say(id string, args ...any) Text { return Text{ID: id, Args: pairs(args)} }

// pairs reads name, value pairs into arguments (nil for none).
func pairs(args []any) map[string]any {
	if len(args) < 2 {
		return nil
	}
	m := make(map[string]any, len(args)/2)
	for i := 0; i+1 < len(args); i += 2 {
		name, _ := args[i].(string)
		m[name] = args[i+1]
	}
	return m
}

func (e *Error) Error() string { return English.Render("en", e.text) }

// Words implements Worded.
func (e *Error) Words() Text { return e.text }

// Is makes two errors with the same id and no arguments the same error.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.text.ID == e.text.ID && len(t.text.Args) == 0 && len(e.text.Args) == 0
}

// Worded is an error that says something to people.
type Worded interface {
	Words() Text
}

// Of finds the words of err: the first error in its chain that has some.
func Of(err error) (Text, bool) {
	var w Worded
	if errors.As(err, &w) {
		return w.Words(), true
	}
	return Text{}, false
}

// Wait is a duration as "try again in …" says it: rendered with the
// language's units.
type Wait time.Duration
