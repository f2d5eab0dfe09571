-- Demo data (the contract's "Demo defaults"). store_seed_demo runs this, in one
-- transaction, only on a database with no queues and no members.
-- sip_ha1 = md5("LOGIN:callq:secretLOGIN").

INSERT INTO queues (name, number, strategy, timeout, connect_timeout, recovery, escalation_queue, hold)
VALUES ('support', '6000', 'round-robin', 600, 15, 5, '', 'position,pause:2,file:music.wav,wait,repeat'),
       ('sales',   '6001', 'most-idle',   600, 15, 5, 'support', NULL);

INSERT INTO members (login, name, role, sip_ha1) VALUES
	('1001', 'Agent 1001',   'agent',   '4ad6182b63c4eca8c0c5a57298ff429a'),
	('1002', 'Agent 1002',   'agent',   '8aaaa77bc84d26963434109df5b8562f'),
	('1003', 'Agent 1003',   'agent',   'd9cb0124048180051f4e4985b3c5fbc1'),
	('1100', 'Manager 1100', 'manager', '999173b651b12128259a4fb4a8e5be74'),
	('1900', 'Admin 1900',   'admin',   '55815812d7e722e3a6df1ba308e52b5a');

-- The control-socket password is separate from the SIP one: pass<login>, stored
-- as a salted PBKDF2 hash (callq_pwhash() is core/pwhash.c, registered on the
-- store's connection).
UPDATE members SET password_hash = callq_pwhash('pass' || login);

-- Agents are active in both queues (still logged out); 1100 manages both.
INSERT INTO queue_members (queue_id, member_id, is_manager, active)
SELECT q.id, m.id, 0, 1 FROM queues q, members m
WHERE q.name IN ('support', 'sales') AND m.login IN ('1001', '1002', '1003')
ORDER BY q.id, m.id;
INSERT INTO queue_members (queue_id, member_id, is_manager, active)
SELECT q.id, m.id, 1, 0 FROM queues q, members m
WHERE q.name IN ('support', 'sales') AND m.login = '1100'
ORDER BY q.id;

INSERT INTO feature_codes (code, action) VALUES
	('*50', 'login'), ('*51', 'logout'), ('*52', 'away'), ('*53', 'ready'), ('*54', 'pause'),
	('*55', 'resume'), ('*56', 'extend'), ('*57', 'listen'), ('*58', 'whisper'), ('*59', 'barge');

INSERT INTO trunk_acl (cidr) VALUES ('127.0.0.1/32');
