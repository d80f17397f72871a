package ui

import (
	"fmt"
	"io"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/refresher"
	"github.com/tokentray/tokentray/rotation"
	"github.com/tokentray/tokentray/vault"
)

// rotationRow is one client in the rotation overview: its report (what the
// exports write, the same as the command line's) and what the table shows.
type rotationRow struct {
	rotation.Report
	rot vault.RotationStatus
	sev severity
}

// rotationRows lists every client's rotation status at now, overdue first.
func rotationRows(states []refresher.State, now time.Time) []rotationRow {
	rows := make([]rotationRow, 0, len(states))
	for _, st := range states {
		rot := rotationAt(st, now)
		rows = append(rows, rotationRow{Report: rotation.NewReport(st.Client, rot, st.Expiry), rot: rot, sev: rotationSeverity(rot)})
	}
	slices.SortStableFunc(rows, func(a, b rotationRow) int { return compareRotation(a.Name, a.rot, b.Name, b.rot) })
	return rows
}

// reports returns the rows' reports, for the exports.
func reports(rows []rotationRow) []rotation.Report {
	out := make([]rotation.Report, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.Report)
	}
	return out
}

// showRotation opens the rotation overview window.
func (u *UI) showRotation() {
	now := u.time.Now()
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
			if r.rot.SetAt.IsZero() {
				return "-", sevOK
			}
			return plural(r.rot.AgeDays, "day"), sevOK
		case 3:
			return dateText(r.rot.SetAt), sevOK
		case 4:
			return dateText(r.rot.DueAt), sevOK
		}
		label := r.rot.Label()
		if r.Rotation.InProgress {
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
		switch r.rot.State {
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
	csvBtn := &widget.Button{Text: "Export CSV", Icon: theme.DownloadIcon(), OnTapped: export("csv", func(wr io.Writer) error { return rotation.WriteCSV(wr, reports(rows)) })}
	jsonBtn := &widget.Button{Text: "Export JSON", Icon: theme.DownloadIcon(), OnTapped: export("json", func(wr io.Writer) error { return rotation.WriteJSON(wr, reports(rows)) })}
	note := dimText("Exports hold no secrets and no tokens.", theme.SizeNameText)
	note.Truncation = fyne.TextTruncateOff
	bottom := container.NewHBox(note, layout.NewSpacer(), csvBtn, jsonBtn)
	w.SetContent(container.NewBorder(summary, container.NewPadded(bottom), nil, nil, table))
	w.Resize(fyne.NewSize(900, 520))
	escapeCloses(w)
	w.Show()
}
