"""Offline emulator of the Alibaba Cloud VPC, ECS and SLB control planes (see docs/emulator.md)."""
