package textsafe

import "strings"

// formulaStarts are the first characters that make a spreadsheet read a CSV
// cell as a formula (OWASP's CSV injection list), and the quote that marks
// a cell as text.
const formulaStarts = "=+-@\t\r'"

// Cell returns s made safe as a CSV cell for a spreadsheet: a cell that
// begins with '=', '+', '-', '@', a tab, a carriage return or a quote gets a
// leading quote, so it is read as text, never run as a formula (OWASP, CSV
// injection). A plain integer such as "-3" is a number, not a formula, and
// is kept. UnCell undoes it.
func Cell(s string) string {
	if s == "" || !strings.ContainsRune(formulaStarts, rune(s[0])) || isInteger(s) {
		return s
	}
	return "'" + s
}

// UnCell returns the value Cell was given: it drops the quote Cell added. A
// cell no Cell wrote comes back unchanged unless it begins with a quote
// followed by one of Cell's starting characters.
func UnCell(s string) string {
	if len(s) >= 2 && s[0] == '\'' && strings.ContainsRune(formulaStarts, rune(s[1])) && !isInteger(s[1:]) {
		return s[1:]
	}
	return s
}

// isInteger reports whether s is an optional '-' and one or more digits.
func isInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
