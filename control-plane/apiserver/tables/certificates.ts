/**
 * Rows of CertificateSigningRequests, with upstream's columns: NAME, AGE, SIGNERNAME, REQUESTOR,
 * REQUESTEDDURATION, CONDITION (`Pending`, `Approved,Issued`, `Denied`...).
 */
import { conditionSummary } from '../../../api/certificates/csr-types.js';
import type { CsrStatus } from '../../../api/certificates/csr-types.js';
import { humanDuration } from './duration.js';
import type { Printer } from './printer.js';
import { ageColumn, ageOf, at, col, nameColumn, nameOf, text } from './format.js';

export const csrPrinter: Printer = {
  columns: [
    nameColumn,
    ageColumn,
    col('SignerName', 'string', 'Name of the signer the request asks for.'),
    col('Requestor', 'string', 'The user that created the request.'),
    col('RequestedDuration', 'string', 'The validity the request asks for.'),
    col('Condition', 'string', 'Approval and issuance state of the request.'),
  ],
  cells(csr, now) {
    const seconds = at(csr, 'spec', 'expirationSeconds');
    return [
      nameOf(csr),
      ageOf(csr, now),
      text(at(csr, 'spec', 'signerName')),
      text(at(csr, 'spec', 'username')),
      typeof seconds === 'number' ? humanDuration(seconds * 1000) : '<none>',
      conditionSummary({ status: (at(csr, 'status') ?? {}) as CsrStatus }),
    ];
  },
};
