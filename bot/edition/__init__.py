"""A chat's edition of a day: which papers its filters select, and the messages composed for it.

Shared by dispatch and by the handlers (`/today`, `/resend`, inline); imports pure modules and
storage only.
"""
