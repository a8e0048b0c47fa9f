// Side-effect imports: each domain file adds its types and root fields to the builder.
import './scalars.js';
import './root.js';
import './project.js';
import './api-key.js';
import './model.js';
import './permission.js';
import './health.js';
import './upstream-key.js';
import './ledger.js';
import './usage.js';
import './request.js';
import './audit.js';
import './responses.js';
import './operator.js';
import { builder } from '../builder.js';

export const schema = builder.toSchema();
