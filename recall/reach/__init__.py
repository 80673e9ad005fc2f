"""Digital reach: e-mail and SMS notices, in the order the recall gives, and what follows a
notice that fails (the next notice, else the call list)."""
