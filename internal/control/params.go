package control

// The params and results of the methods, shared by Server and Client.

// eventsParams asks for up to Backlog past events before the live ones.
type eventsParams struct {
	Backlog int `json:"backlog,omitempty"`
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

type subscribedResult struct {
	Subscribed bool `json:"subscribed"`
}
