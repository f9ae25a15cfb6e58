package review

import "qinqing/internal/complaint"

// forEveryone are the figures every staff member's review shows whatever
// their roles: anyone may be complained about or trained.
func forEveryone(k Key) bool { return k == Complaints || k == Training }

// complaintCategory names a category in a title.
var complaintCategory = map[complaint.Category]string{
	complaint.Noise: "噪音扰民", complaint.Hygiene: "环境卫生", complaint.Security: "治安秩序",
	complaint.StaffAttitude: "服务态度", complaint.Parking: "停车", complaint.Fees: "收费", complaint.Other: "其他",
}

// complaint: COMPLAINTS for each staff member it names, when received in
// the month. The title says what kind of complaint it is and nothing of
// who made it or what they wrote: the staff member reads their own review,
// and the complaint itself stays with those who handle complaints.
func (b *batch) complaint(x *complaint.Complaint) {
	if !b.in(x.SubmittedAt) {
		return
	}
	title := "投诉 · " + complaintCategory[x.Category]
	for _, id := range x.ConcernsStaffIDs {
		b.add(id, Complaints, &Item{Kind: KindComplaint, ID: x.ID, Title: title, At: x.SubmittedAt})
	}
}
