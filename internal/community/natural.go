package community

import "strings"

// naturalCompare orders "2栋" before "10栋": digit runs compare by value, so
// building and room lists read the way staff count them.
func naturalCompare(a, b string) int {
	return strings.Compare(NaturalKey(a), NaturalKey(b))
}

// NaturalKey pads every digit run to 8 digits so that plain string order is
// natural order; stores keep it as a sort key.
func NaturalKey(s string) string {
	var out strings.Builder
	i := 0
	for i < len(s) {
		if s[i] >= '0' && s[i] <= '9' {
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			run := strings.TrimLeft(s[i:j], "0")
			if len(run) < 8 {
				out.WriteString(strings.Repeat("0", 8-len(run)))
			}
			out.WriteString(run)
			i = j
			continue
		}
		out.WriteByte(s[i])
		i++
	}
	return out.String()
}
