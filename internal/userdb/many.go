package userdb

// SetDisabledMany disables (disable) or enables every user of names in
// one edit of the file: one write, however many change. errs has an entry
// for each name: nil when it is done (or was so already), ErrUnknownUser,
// or why the name is not valid. err is the edit's own failure (the file
// could not be written): then nothing changed, whatever errs says.
func (f *File) SetDisabledMany(names []string, disable bool) (errs []error, err error) {
	errs = make([]error, len(names))
	checked := make([]error, len(names))
	for i, n := range names {
		checked[i] = ValidName(n)
	}
	var changed []string
	err = f.edit(func(lines []line, t *table) ([]line, error) {
		// An edit may run again on what is on disk then: start afresh.
		copy(errs, checked)
		changed = changed[:0]
		for i, n := range names {
			if errs[i] != nil {
				continue
			}
			u, ok := t.users[n]
			switch {
			case !ok:
				errs[i] = ErrUnknownUser
				continue
			case u.Disabled == disable:
				continue
			}
			l := &lines[u.line-1]
			l.text = setField(l.text, 7, setDisabledField(u.Extra, disable))
			changed = append(changed, n)
		}
		if len(changed) == 0 {
			return nil, errNoChange
		}
		return lines, nil
	})
	if err != nil {
		return errs, err
	}
	for _, n := range changed {
		f.log.Info("userdb: user state changed", "user", n, "disabled", disable, "path", f.path)
	}
	return errs, nil
}
