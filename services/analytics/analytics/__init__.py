"""The analytics service: page views and the visitor counter (polls and statistics: issue 6)."""
