package signin

// RefusalRow is a row of refusals: its name (a Refusal's Reason) and class.
type RefusalRow struct {
	Reason string
	Class  Class
}

// RefusalRows are the rows of refusals, in order.
func RefusalRows() []RefusalRow {
	rows := make([]RefusalRow, len(refusals))
	for i, r := range refusals {
		rows[i] = RefusalRow{r.name, r.class}
	}
	return rows
}
