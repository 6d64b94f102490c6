package tui

// One vocabulary: the console's tables and popadm's listings (who, user
// list, locks, penalties) have the same columns, in the same order, with
// the same names and formats — AGE for how long a session has been
// connected or a lock held, CLIENT for where a session comes from, RETR
// for the messages it retrieved, MSGS (messages) and SIZE for a maildrop, STATUS
// enabled or disabled, yes or no for TLS, LOCKED and STALE, sizes as
// human.Bytes, durations as human.Duration, times past as human.Ago. The
// console shows fewer on a narrow terminal; popadm's --json keeps the
// control API's field names. popadm's tests hold the two together.

// Columns are the column titles of the console's view named view
// ("Sessions", "Users", "Locks", "Penalties"), as it shows them for one
// popd (a fleet adds NODE first); nil for a view that is no table.
func Columns(view string) []string {
	for _, newPage := range registry {
		p := newPage(&shared{})
		if p.Name() != view {
			continue
		}
		if t, ok := p.(interface{ titles() []string }); ok {
			return t.titles()
		}
	}
	return nil
}

// titles are the table's column titles, in order.
func (p *tablePage[T]) titles() []string {
	out := make([]string, len(p.t.cols))
	for i, c := range p.t.cols {
		out[i] = c.title
	}
	return out
}
