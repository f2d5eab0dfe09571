-- Version 7: members that must use SIP over TLS with SRTP (member.add/member.set
-- secure=yes): their REGISTERs and calls must come over TLS with SRTP (else
-- 403/488), and offers to them use SRTP.
ALTER TABLE members ADD COLUMN secure INTEGER NOT NULL DEFAULT 0 CHECK (secure IN (0, 1));
