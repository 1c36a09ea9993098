package pages

// eventKinds are the console's filters of what happened: an event's kind
// begins with the filter's Prefix (its value in the address, ?kind=) or
// one of its Also. Every kind of event the code can emit is under one
// (TestEveryEventKindHasAFilter; walk33: device changes, sign-outs and
// notices were under none, and "Sign-ins" missed those with a code).
var eventKinds = []eventKind{
	{Prefix: "signed_in", ID: "event.signed_in", Also: []string{"verified", "verify_failed", "not_enrolled", "handed_off"}},
	{Prefix: "signed_out", ID: "event.signed_out", Also: []string{"browser_untrusted", "session_replaced"}},
	{Prefix: "code_", ID: "event.code_"},
	{Prefix: "recovery_", ID: "event.recovery_"},
	{Prefix: "device_", ID: "event.device_", Also: []string{"enrolled", "enrollment_refused_case", "invite_used", "invites_ended"}},
	{Prefix: "notice_", ID: "event.notice_"},
	{Prefix: "locked_out", ID: "event.locked_out"},
	{Prefix: "limit", ID: "event.limit"},
	{Prefix: "number_", ID: "event.number_"},
	{Prefix: "sim_swap", ID: "event.sim_swap"},
	{Prefix: "delivery_", ID: "event.delivery_"},
	{Prefix: "pumping", ID: "event.pumping"},
	{Prefix: "admin_", ID: "event.admin_", Also: []string{"pumping_resumed"}}, // an admin resumes: both filters
	{Prefix: "console_", ID: "event.console_"},
	{Prefix: "provisioned_", ID: "event.provisioned_", Also: []string{"added_devices_kept"}},
	{Prefix: "store_", ID: "event.store_", Also: []string{"secret_"}},
}

// eventKind is a filter: events whose kind begins with Prefix or one of
// Also, named by ID.
type eventKind struct {
	Prefix, ID string
	Also       []string
}

// prefixes are the beginnings of the kinds k chooses.
func (k eventKind) prefixes() []string { return append([]string{k.Prefix}, k.Also...) }
