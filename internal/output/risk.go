package output // import "github.com/o365detect/o365detect/internal/output"

// riskBand is the severity band of an RBA risk score, as contentctl derives
// an ESCU detection's severity from it (rba.py): 0–20 informational, 21–40
// low, 41–60 medium, 61–80 high, 81–100 critical. The ecs and ocsf
// profiles take their severities from the band, so that the backends rank a
// detection as ESCU does.
type riskBand int

const (
	bandInformational riskBand = iota
	bandLow
	bandMedium
	bandHigh
	bandCritical
)

func riskBandOf(score int) riskBand {
	switch {
	case score <= 20:
		return bandInformational
	case score <= 40:
		return bandLow
	case score <= 60:
		return bandMedium
	case score <= 80:
		return bandHigh
	default:
		return bandCritical
	}
}

// elasticSeverity is the event.severity that Elastic's External Alerts rule
// maps to the band's alert severity (21 low, 47 medium, 73 high, 99
// critical). Elastic has no informational severity; that band maps to low.
func (b riskBand) elasticSeverity() int64 {
	return [...]int64{21, 21, 47, 73, 99}[b]
}

// ocsfSeverityID is the OCSF severity_id: 1 Informational to 5 Critical.
func (b riskBand) ocsfSeverityID() int64 { return int64(b) + 1 }

// ocsfSeverity is the caption of ocsfSeverityID.
func (b riskBand) ocsfSeverity() string { return ocsfSeverityCaptions[b] }

// ocsfRiskLevelID is the OCSF risk_level_id: 0 Info to 4 Critical.
func (b riskBand) ocsfRiskLevelID() int64 { return int64(b) }

// ocsfRiskLevel is the caption of ocsfRiskLevelID.
func (b riskBand) ocsfRiskLevel() string { return ocsfRiskLevelCaptions[b] }

// Captions of severity_id 1–5 and risk_level_id 0–4, by band.
var (
	ocsfSeverityCaptions  = [...]string{"Informational", "Low", "Medium", "High", "Critical"}
	ocsfRiskLevelCaptions = [...]string{"Info", "Low", "Medium", "High", "Critical"}
)
