package ui

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
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

// overviewCols are the rotation overview's columns, in order.
var overviewCols = []string{"Client", "Environment", "Secret age", "Set on", "Due", "Status"}

// overview is the rotation overview window: a table sortable by any
// column whose rows open the client or start its rotation. Its fields
// belong to the UI thread.
type overview struct {
	u        *UI
	w        fyne.Window
	now      time.Time
	rows     []rotationRow
	sortCol  int  // column the rows are sorted by
	desc     bool // reverse order
	table    *widget.Table
	selected string // client of the selected row, "" when none
	openBtn  *widget.Button
	rotBtn   *widget.Button
	status   *widget.Label // what the last export did
}

// showRotation opens the rotation overview window.
func (u *UI) showRotation() {
	o := u.newOverview()
	escapeCloses(o.w)
	o.w.Show()
}

func (u *UI) newOverview() *overview {
	o := &overview{u: u, now: u.time.Now(), sortCol: len(overviewCols) - 1}
	o.rows = rotationRows(u.sortedStates(), o.now)
	o.w = u.app.NewWindow("Rotation overview")
	widths := []float32{220, 110, 100, 130, 130, 170}
	o.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(o.rows), len(overviewCols) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, obj fyne.CanvasObject) {
			l := obj.(*widget.Label)
			if id.Row >= len(o.rows) {
				return
			}
			text, sev := o.cell(o.rows[id.Row], id.Col)
			l.Text = text
			l.Importance = widget.MediumImportance
			switch sev {
			case sevError:
				l.Importance = widget.DangerImportance
			case sevWarn:
				l.Importance = widget.WarningImportance
			case sevOK:
				if id.Col == len(overviewCols)-1 {
					l.Importance = widget.SuccessImportance
				}
			}
			l.TextStyle.Bold = id.Col == 0
			l.Refresh()
		})
	o.table.ShowHeaderColumn = false
	// A header is a button: tapping it sorts by that column, again reverses.
	o.table.CreateHeader = func() fyne.CanvasObject {
		return &widget.Button{Importance: widget.LowImportance, Alignment: widget.ButtonAlignLeading}
	}
	o.table.UpdateHeader = func(id widget.TableCellID, obj fyne.CanvasObject) {
		if id.Row >= 0 || id.Col < 0 {
			return
		}
		b := obj.(*widget.Button)
		col := id.Col
		b.Text = o.headerText(col)
		b.OnTapped = func() { o.sortBy(col) }
		b.Refresh()
	}
	o.table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(o.rows) {
			o.choose(o.rows[id.Row].Name)
		}
	}
	for i, wd := range widths {
		o.table.SetColumnWidth(i, wd)
	}
	var overdue, soon int
	for _, r := range o.rows {
		switch r.rot.State {
		case vault.RotationOverdue:
			overdue++
		case vault.RotationDueSoon:
			soon++
		}
	}
	summary := widget.NewLabel(fmt.Sprintf("%s · %d overdue · %d due within 14 days · secrets must be rotated every %d days. Tokens issued with an old secret stay valid until they expire. Click a heading to sort, a row to act on its client.",
		plural(len(o.rows), "client"), overdue, soon, vault.DefaultRotationPolicy.Period))
	summary.Wrapping = fyne.TextWrapWord
	o.openBtn = &widget.Button{Text: "Open client", Icon: theme.VisibilityIcon(), OnTapped: o.openClient}
	o.rotBtn = &widget.Button{Text: "Rotate secret…", Icon: theme.LoginIcon(), Importance: widget.HighImportance, OnTapped: o.rotate}
	o.openBtn.Disable()
	o.rotBtn.Disable()
	csvBtn := &widget.Button{Text: "Export CSV", Icon: theme.DownloadIcon(), OnTapped: func() {
		o.export("csv", func(wr io.Writer) error { return rotation.WriteCSV(wr, reports(o.rows)) })
	}}
	jsonBtn := &widget.Button{Text: "Export JSON", Icon: theme.DownloadIcon(), OnTapped: func() {
		o.export("json", func(wr io.Writer) error { return rotation.WriteJSON(wr, reports(o.rows)) })
	}}
	o.status = &widget.Label{Text: "Exports hold no secrets and no tokens.", Truncation: fyne.TextTruncateEllipsis, SizeName: theme.SizeNameCaptionText}
	bottom := container.NewBorder(nil, nil, container.NewHBox(o.openBtn, o.rotBtn), container.NewHBox(csvBtn, jsonBtn), o.status)
	o.w.SetContent(container.NewBorder(summary, container.NewPadded(bottom), nil, nil, o.table))
	o.w.Resize(fyne.NewSize(900, 520))
	return o
}

// cell is the text of a row's column, with the severity that colours it.
func (o *overview) cell(r rotationRow, col int) (string, severity) {
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

// headerText is a column's heading, with an arrow on the sorted one.
func (o *overview) headerText(col int) string {
	switch {
	case col != o.sortCol:
		return overviewCols[col]
	case o.desc:
		return overviewCols[col] + " ▼"
	}
	return overviewCols[col] + " ▲"
}

// sortBy sorts the rows by col; the sorted column again reverses them.
func (o *overview) sortBy(col int) {
	if col == o.sortCol {
		o.desc = !o.desc
	} else {
		o.sortCol, o.desc = col, false
	}
	sortRotationRows(o.rows, col, o.desc)
	o.table.UnselectAll()
	o.table.Refresh()
	if o.selected != "" {
		if i := slices.IndexFunc(o.rows, func(r rotationRow) bool { return r.Name == o.selected }); i >= 0 {
			o.table.Select(widget.TableCellID{Row: i, Col: 0})
		}
	}
}

// sortRotationRows sorts rows by a column of the overview (ties by the
// rotation order, then the name); desc reverses.
func sortRotationRows(rows []rotationRow, col int, desc bool) {
	byRotation := func(a, b rotationRow) int { return compareRotation(a.Name, a.rot, b.Name, b.rot) }
	timeOf := func(t time.Time) int64 {
		if t.IsZero() {
			return math.MaxInt64 // unknown dates last
		}
		return t.Unix()
	}
	ageOf := func(r rotationRow) int {
		if r.rot.SetAt.IsZero() {
			return math.MaxInt // unknown ages last
		}
		return r.rot.AgeDays
	}
	var key func(a, b rotationRow) int
	switch col {
	case 0:
		key = func(a, b rotationRow) int { return strings.Compare(a.Name, b.Name) }
	case 1:
		key = func(a, b rotationRow) int { return strings.Compare(a.Environment, b.Environment) }
	case 2:
		key = func(a, b rotationRow) int { return cmp.Compare(ageOf(a), ageOf(b)) }
	case 3:
		key = func(a, b rotationRow) int { return cmp.Compare(timeOf(a.rot.SetAt), timeOf(b.rot.SetAt)) }
	case 4:
		key = func(a, b rotationRow) int { return cmp.Compare(timeOf(a.rot.DueAt), timeOf(b.rot.DueAt)) }
	default:
		key = byRotation
	}
	slices.SortStableFunc(rows, func(a, b rotationRow) int {
		c := key(a, b)
		if c == 0 {
			c = byRotation(a, b)
		}
		if desc {
			return -c
		}
		return c
	})
}

// choose makes name the client the row buttons act on.
func (o *overview) choose(name string) {
	o.selected = name
	o.openBtn.SetText("Open " + name)
	o.rotBtn.SetText("Rotate " + name + "…")
	o.openBtn.Enable()
	o.rotBtn.Enable()
}

// openClient shows the chosen client in the main window and closes the
// overview.
func (o *overview) openClient() {
	if o.selected == "" {
		return
	}
	o.u.reveal(o.selected)
	o.w.Close()
}

// rotate opens the rotation wizard of the chosen client over the main
// window and closes the overview (its figures change with the rotation).
func (o *overview) rotate() {
	if o.selected == "" {
		return
	}
	name := o.selected
	o.u.reveal(name)
	o.w.Close()
	o.u.showRotate(name)
}

// export asks where to save a report and says in this window how it went.
func (o *overview) export(ext string, write func(io.Writer) error) {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil || wc == nil {
			return
		}
		werr := write(wc)
		if cerr := wc.Close(); werr == nil {
			werr = cerr
		}
		o.exported(wc.URI().Path(), werr)
	}, o.w)
	d.SetFileName("tokentray-rotation-" + o.now.Format("2006-01-02") + "." + ext)
	d.Resize(fyne.NewSize(760, 520))
	d.Show()
}

// exported says in the overview's own window where the report went, or why
// it did not.
func (o *overview) exported(path string, err error) {
	if err != nil {
		o.status.Importance = widget.DangerImportance
		o.status.SetText("Not exported: " + err.Error())
		dialog.ShowError(fmt.Errorf("ui: export rotation report: %w", err), o.w)
		return
	}
	o.status.Importance = widget.SuccessImportance
	o.status.SetText("Exported to " + path + " (no secrets, no tokens)")
	showInfo("Exported", "The rotation report is in "+path+". It holds no secrets and no tokens.", o.w)
}
