"""Tendero: a customer-centric CRM."""
