// Package errmatch is what the tables that turn errors into answers match
// errors with: signin's refusals (a class, hence a page's status) and the
// admin API's (a status). One place, for both: admin imports signin, so
// neither could hold them for the other without exporting them from a
// package whose job they are not.
package errmatch

import "errors"

// As reports whether err is, or wraps, an error of type T.
func As[T error](err error) bool { return errors.As(err, new(T)) }

// Is matches an error that is, or wraps, target.
func Is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}
