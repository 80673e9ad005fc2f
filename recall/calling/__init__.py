"""The call list: agents, assignment, each agent's queue, the next case, dialling, recorded
calls, call sheets and the follow-up of letters that did not reach."""
