package graph

import "qinqing/internal/payment"

// receiptNo is a receipt number as printed; null until the payment settles.
func receiptNo(n int64) *string {
	if n <= 0 {
		return nil
	}
	s := payment.ReceiptText(n)
	return &s
}

func receiptNumber(n int64) *int {
	if n <= 0 {
		return nil
	}
	v := int(n)
	return &v
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// The payment lists' bounds for the complexity estimate (see listBounds): a
// payment pays a handful of months, is refunded rarely; a day's refunds and
// unmatched payments are few.
func init() {
	for k, v := range map[string]int{
		"Payment.allocations": 12, "Payment.refunds": 5, "Payment.timeline": 10, "PaymentRefund.bills": 12,
		"PaymentReconciliation.byMethod": 4, "PaymentReconciliation.refunds": 30, "PaymentReconciliation.unmatched": 30,
		"PaymentReconciliation.refundsToCheck": 10, "PaymentReconciliation.unmatchedNotifications": 10,
	} {
		listBounds[k] = v
	}
}
