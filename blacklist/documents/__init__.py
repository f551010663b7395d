"""Decision documents a court serves (决定书, 限制消费令, 限制出境决定书, correction decisions) as PDF,
and the public deletion certificate with its verification code."""
