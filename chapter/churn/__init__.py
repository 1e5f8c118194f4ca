"""Churn and segmentation (客户价值 × 忠诚度): the 3×3 matrix, RFM, the churn trend."""
