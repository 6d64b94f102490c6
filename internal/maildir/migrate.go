package maildir

import "fmt"

// The servers a maildrop can be migrated from, for Inspect.
const (
	FromAuto    = ""        // whichever's files the maildir has
	FromDovecot = "dovecot" // dovecot-uidlist
	FromCourier = "courier" // courierpop3dsizelist, else Courier's file names
	FromQmail   = "qmail"   // file names (qmail-pop3d, and popd without a list)
)

// Migration is what popd will make of the UIDLs a maildrop's previous POP3
// server gave, for `popadm migrate check`.
type Migration struct {
	From     string       `json:"from"` // the previous server, as detected or asked for
	Messages int          `json:"messages"`
	Kept     int          `json:"kept"`    // messages whose UIDL stays what that server gave
	New      int          `json:"new"`     // messages that server never listed: nothing to keep
	Changes  []UIDLChange `json:"changes"` // messages whose UIDL would change
}

// UIDLChange is a message whose UIDL would not be what the previous server
// gave, and why.
type UIDLChange struct {
	File string `json:"file"` // folder/name
	Was  string `json:"was"`
	Now  string `json:"now"`
	Why  string `json:"why"`
}

// Inspect tells, without locking or changing anything, which UIDLs of the
// maildrop in dir stay what the server from (a From constant) gave. opt's
// UIDLFormat and Control are used as Open uses them.
func Inspect(dir string, opt Options, from string) (Migration, error) {
	opt = opt.withDefaults()
	t, err := openTree(dir, false)
	if err != nil {
		return Migration{}, err
	}
	defer t.close()
	src := readSources(t, opt)
	msgs, _, err := scan(t, opt.Logger)
	if err != nil {
		return Migration{}, err
	}
	assignUIDs(msgs, src)
	if from == FromAuto {
		switch {
		case src.dovecot != nil:
			from = FromDovecot
		case src.courier != nil:
			from = FromCourier
		default:
			from = FromQmail
		}
	}
	mig := Migration{From: from, Messages: len(msgs)}
	for i := range msgs {
		msg := &msgs[i]
		was, why, listed := previousUIDL(src, from, msg)
		switch {
		case !listed:
			mig.New++
		case was == msg.uid:
			mig.Kept++
		default:
			if why == "" {
				why = changeReason(msgs, i)
			}
			mig.Changes = append(mig.Changes, UIDLChange{File: msg.folder.String() + "/" + msg.name,
				Was: was, Now: msg.uid, Why: why})
		}
	}
	return mig, nil
}

// previousUIDL is the UIDL the server from gave msg; listed is false for a
// message it never listed; why, when set, says why popd cannot give the
// same.
func previousUIDL(src *sources, from string, msg *message) (was, why string, listed bool) {
	switch from {
	case FromDovecot:
		i, ok := src.dovIdx[msg.base]
		if !ok {
			return "", "", false
		}
		u, ok := src.dovecot.entryUIDL(&src.dovecot.entries[i], src.format)
		if !ok {
			return "?", "pop3-uidl-format needs a value popd does not have for Maildir (%m is mbox-only)", true
		}
		return u, "", true
	case FromCourier:
		if src.courier != nil {
			if e, ok := src.courier.entries[msg.base]; ok {
				if !validUID(e.uidl) {
					return e.uidl, "Courier's UIDL is not 1-70 octets of 0x21-0x7E (RFC 1939 §7)", true
				}
				return e.uidl, "", true
			}
		}
		return "", "", false // Courier gives it a new UID at its next login
	}
	return qmailUIDL(msg.name), "", true
}

// changeReason says why message i does not get the previous server's UIDL.
func changeReason(msgs []message, i int) string {
	msg := &msgs[i]
	switch {
	case msg.from == fromMemory:
		return "popd already showed another UIDL for it (" + memoryName + ")"
	case i > 0 && msgs[i-1].base == msg.base || i+1 < len(msgs) && msgs[i+1].base == msg.base:
		return "another file has the same base name"
	case !validUID(msg.uid) || msg.from == fromName && hashUID(msg.base) == msg.uid:
		return "its name cannot be a UIDL (RFC 1939: 1-70 characters 0x21-0x7E)"
	}
	return fmt.Sprintf("the UIDL collides with another message's (popd gives %s)", msg.from)
}
