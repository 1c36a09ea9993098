package store

import "testing"

// valueStore is a Store that is a value no == can compare (a func field),
// wrapped in one that looks comparable by its type alone.
type valueStore struct {
	Store
	f func()
}

type wrapped struct{ Store }

// TestSame: two store modules over one database are one store (each gate
// loads its own module: a *Badger each over the folder's one database, a
// *Redis each on one server, database and key prefix); others are not,
// and a store no == can compare is the same as nothing, never a panic.
func TestSame(t *testing.T) {
	db, other := &badgerDB{}, &badgerDB{}
	r := func(id string) *Redis { return &Redis{identity: id} }
	opened := func(db *badgerDB) *Badger { return &Badger{db: db} }
	v := wrapped{valueStore{f: func() {}}}
	for _, c := range []struct {
		a, b Store
		same bool
	}{
		{opened(db), opened(db), true},
		{opened(db), db, true},
		{opened(db), opened(other), false},
		{&Badger{}, &Badger{}, false},                           // not provisioned
		{&Badger{absPath: "/a"}, &Badger{absPath: "/a"}, false}, // not opened
		{r(`["a:6379"] "" false 0 "smsgate:"`), r(`["a:6379"] "" false 0 "smsgate:"`), true},
		{r(`["a:6379"] "" false 0 "smsgate:"`), r(`["a:6379"] "" false 0 "other:"`), false},
		{&Redis{}, &Redis{}, false},
		{db, r("x"), false},
		{v, v, false},
		{nil, nil, false},
	} {
		if got := Same(c.a, c.b); got != c.same {
			t.Errorf("Same(%T, %T) = %v, want %v", c.a, c.b, got, c.same)
		}
	}
}
