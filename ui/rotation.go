package ui

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/vault"
)

// rotationRow is one client in the rotation overview and its exports. It
// holds no secret and no token.
type rotationRow struct {
	Name        string    `json:"name"`
	ClientID    string    `json:"client_id"`
	Environment string    `json:"environment"`
	Status      string    `json:"status"`
	AgeDays     int       `json:"secret_age_days"`
	DaysLeft    int       `json:"days_left"`
	SecretSetAt time.Time `json:"secret_set_at,omitzero"`
	DueAt       time.Time `json:"due_at,omitzero"`
	InProgress  bool      `json:"rotation_in_progress"`

	sev severity
}

// rotationRows lists every client's rotation status at now, overdue first.
func rotationRows(states []refresher.State, now time.Time) []rotationRow {
	rows := make([]rotationRow, 0, len(states))
	type keyed struct {
		row rotationRow
		rot vault.RotationStatus
	}
	var ks []keyed
	for _, st := range states {
		rot := rotationAt(st, now)
		c := st.Client
		ks = append(ks, keyed{rotationRow{
			Name: c.Name, ClientID: c.ClientID, Environment: string(c.Environment()),
			Status: string(rot.State), AgeDays: rot.AgeDays, DaysLeft: rot.DaysLeft,
			SecretSetAt: rot.SetAt.UTC(), DueAt: rot.DueAt.UTC(), InProgress: !c.RotationStartedAt.IsZero(),
			sev: rotationSeverity(rot),
		}, rot})
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return compareRotation(a.row.Name, a.rot, b.row.Name, b.rot) })
	for _, k := range ks {
		if k.rot.SetAt.IsZero() {
			k.row.SecretSetAt, k.row.DueAt = time.Time{}, time.Time{}
		}
		rows = append(rows, k.row)
	}
	return rows
}

var csvHeader = []string{"name", "client_id", "environment", "status", "secret_age_days", "days_left", "secret_set_at", "due_at", "rotation_in_progress"}

// writeRotationCSV writes rows as CSV with a header line.
func writeRotationCSV(w io.Writer, rows []rotationRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	date := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	for _, r := range rows {
		rec := []string{r.Name, r.ClientID, r.Environment, r.Status, strconv.Itoa(r.AgeDays), strconv.Itoa(r.DaysLeft),
			date(r.SecretSetAt), date(r.DueAt), strconv.FormatBool(r.InProgress)}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeRotationJSON writes rows as an indented JSON document.
func writeRotationJSON(w io.Writer, rows []rotationRow, now time.Time) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		GeneratedAt time.Time     `json:"generated_at"`
		PeriodDays  int           `json:"rotation_period_days"`
		Clients     []rotationRow `json:"clients"`
	}{now.UTC(), vault.DefaultRotationPolicy.Period, rows})
}

// showRotation opens the rotation overview window.
func (u *UI) showRotation() {
	now := u.clock.Now()
	rows := rotationRows(u.sortedStates(), now)
	w := u.app.NewWindow("Rotation overview")
	cols := []string{"Client", "Environment", "Secret age", "Set on", "Due", "Status"}
	widths := []float32{220, 110, 100, 130, 130, 170}
	cell := func(r rotationRow, col int) (string, severity) {
		switch col {
		case 0:
			return r.Name, sevOK
		case 1:
			return r.Environment, sevOK
		case 2:
			if r.SecretSetAt.IsZero() {
				return "-", sevOK
			}
			return plural(r.AgeDays, "day"), sevOK
		case 3:
			return dateText(r.SecretSetAt), sevOK
		case 4:
			return dateText(r.DueAt), sevOK
		}
		st := vault.RotationStatus{State: vault.RotationState(r.Status), DaysLeft: r.DaysLeft}
		label := st.Label()
		if r.InProgress {
			label += " (rotating)"
		}
		return label, r.sev
	}
	table := widget.NewTableWithHeaders(
		func() (int, int) { return len(rows), len(cols) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			text, sev := cell(rows[id.Row], id.Col)
			l.Text = text
			l.Importance = widget.MediumImportance
			switch sev {
			case sevError:
				l.Importance = widget.DangerImportance
			case sevWarn:
				l.Importance = widget.WarningImportance
			case sevOK:
				if id.Col == len(cols)-1 {
					l.Importance = widget.SuccessImportance
				}
			}
			l.TextStyle.Bold = id.Col == 0
			l.Refresh()
		})
	table.ShowHeaderColumn = false
	table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Row < 0 && id.Col >= 0 {
			o.(*widget.Label).SetText(cols[id.Col])
		}
	}
	for i, wd := range widths {
		table.SetColumnWidth(i, wd)
	}
	var overdue, soon int
	for _, r := range rows {
		switch vault.RotationState(r.Status) {
		case vault.RotationOverdue:
			overdue++
		case vault.RotationDueSoon:
			soon++
		}
	}
	summary := widget.NewLabel(fmt.Sprintf("%s · %d overdue · %d due within 14 days · secrets must be rotated every %d days. Tokens issued with an old secret stay valid until they expire.",
		plural(len(rows), "client"), overdue, soon, vault.DefaultRotationPolicy.Period))
	summary.Wrapping = fyne.TextWrapWord
	export := func(ext string, write func(io.Writer) error) func() {
		return func() {
			d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
				if err != nil || wc == nil {
					return
				}
				werr := write(wc)
				if cerr := wc.Close(); werr == nil {
					werr = cerr
				}
				if werr != nil {
					dialog.ShowError(fmt.Errorf("ui: export rotation report: %w", werr), w)
					return
				}
				u.setStatus("Exported the rotation report to " + wc.URI().Path())
			}, w)
			d.SetFileName("tokentray-rotation-" + now.Format("2006-01-02") + "." + ext)
			d.Resize(fyne.NewSize(760, 520))
			d.Show()
		}
	}
	csvBtn := &widget.Button{Text: "Export CSV", Icon: theme.DownloadIcon(), OnTapped: export("csv", func(wr io.Writer) error { return writeRotationCSV(wr, rows) })}
	jsonBtn := &widget.Button{Text: "Export JSON", Icon: theme.DownloadIcon(), OnTapped: export("json", func(wr io.Writer) error { return writeRotationJSON(wr, rows, now) })}
	note := dimText("Exports hold no secrets and no tokens.", theme.SizeNameText)
	note.Truncation = fyne.TextTruncateOff
	bottom := container.NewHBox(note, layout.NewSpacer(), csvBtn, jsonBtn)
	w.SetContent(container.NewBorder(summary, container.NewPadded(bottom), nil, nil, table))
	w.Resize(fyne.NewSize(900, 520))
	escapeCloses(w)
	w.Show()
}

func dateText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02")
}
