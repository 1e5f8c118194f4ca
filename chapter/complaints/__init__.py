"""Complaints and satisfaction (投诉处理 / 满意度管理)."""
