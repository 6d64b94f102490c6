package control

// The params and results of the methods, shared by Server and Client.

import "time"

// eventsParams asks for up to Backlog past events before the live ones,
// or, with Boot, for those after event Seq of that run of popd (resume).
type eventsParams struct {
	Backlog int    `json:"backlog,omitempty"`
	Boot    string `json:"boot,omitempty"`
	Seq     uint64 `json:"seq,omitempty"`
	// Changes asks for sessions.changed too (changes.go).
	Changes bool `json:"changes,omitempty"`
}

type idParams struct {
	ID string `json:"id"`
}

type userParams struct {
	User string `json:"user"`
}

type passwordParams struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

type deleteParams struct {
	Name      string `json:"name"`
	PurgeMail bool   `json:"purge_mail"`
}

type disableParams struct {
	Name     string `json:"name"`
	Disabled *bool  `json:"disabled"` // required: a missing field must not enable
}

type sourceParams struct {
	Source string `json:"source"`
}

type kickedResult struct {
	Kicked int `json:"kicked"`
}

// subscribedResult answers "events": the run of popd, and the number of
// the last event before the stream (its events are From+1, From+2 …).
type subscribedResult struct {
	Subscribed bool      `json:"subscribed"`
	Boot       string    `json:"boot,omitempty"`
	Started    time.Time `json:"started,omitzero"`
	From       uint64    `json:"from,omitempty"`
}
