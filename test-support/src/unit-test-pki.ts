/*
 * TEST-ONLY PKI of the chaincode unit tests: a CA and two ip-admin client certificates (P-256, 100 years),
 * so the in-memory ClientIdentity returns real identity bytes and DSI registrations carry real signatures.
 * Made with openssl (ecparam prime256v1, req -x509 for the CA, x509 -req for the clients); never trusted
 * anywhere else.
 */

/** Certificate of `/OU=client/CN=oem-ip-admin`. */
const OEM_IP_ADMIN_CERT =
  '-----BEGIN CERTIFICATE-----\n' +
  'MIIBPDCB4gIUJqZDb7sKxe38rjxa5f3vejeP2HswCgYIKoZIzj0EAwIwFzEVMBMG\n' +
  'A1UEAwwMdW5pdC10ZXN0LWNhMCAXDTI2MTIwMTIwMDUxOVoYDzIxMjYxMTA3MjAw\n' +
  'NTE5WjAoMQ8wDQYDVQQLDAZjbGllbnQxFTATBgNVBAMMDG9lbS1pcC1hZG1pbjBZ\n' +
  'MBMGByqGSM49AgEGCCqGSM49AwEHA0IABIC3llPJU05yQY5a2w/Y9vvoE4W9fSAb\n' +
  'yOW8ALeB++KQZTTrfmMPfmNnfrI1l7UW8tcBbHpucYEwzzGpfHDHGlcwCgYIKoZI\n' +
  'zj0EAwIDSQAwRgIhAMp7Ein13PegM3vOx9XXgopm4ki7hwUAw7m276Q6NVQuAiEA\n' +
  '6m4TW/ROySnIhvEDEcYxPsuNgLVLoavYY96O72Y9rtU=\n' +
  '-----END CERTIFICATE-----\n';

/** PKCS#8 private key of the OEM ip-admin. */
const OEM_IP_ADMIN_KEY =
  '-----BEGIN PRIVATE KEY-----\n' +
  'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg9H6ypyUuWQqkND8B\n' +
  '/tZaS4JyLmJVrIWLNy1/9VzyynShRANCAASAt5ZTyVNOckGOWtsP2Pb76BOFvX0g\n' +
  'G8jlvAC3gfvikGU0635jD35jZ36yNZe1FvLXAWx6bnGBMM8xqXxwxxpX\n' +
  '-----END PRIVATE KEY-----\n';

/** Certificate of `/OU=client/CN=sub-ip-admin`. */
const SUB_IP_ADMIN_CERT =
  '-----BEGIN CERTIFICATE-----\n' +
  'MIIBOzCB4gIUJqZDb7sKxe38rjxa5f3vejeP2HwwCgYIKoZIzj0EAwIwFzEVMBMG\n' +
  'A1UEAwwMdW5pdC10ZXN0LWNhMCAXDTI2MTIwMTIwMDUxOVoYDzIxMjYxMTA3MjAw\n' +
  'NTE5WjAoMQ8wDQYDVQQLDAZjbGllbnQxFTATBgNVBAMMDHN1Yi1pcC1hZG1pbjBZ\n' +
  'MBMGByqGSM49AgEGCCqGSM49AwEHA0IABE+CffKrlhfKMGf4O3F4Ai7CavvE6nqJ\n' +
  'ikS52MHWfe2lE9YcAWMTS1XAs9C+IZR1eoCvBSozYf6ch/QlB4vd5UswCgYIKoZI\n' +
  'zj0EAwIDSAAwRQIgJaEkXSzch7cc1uPQ6o3uF0IZzCuOZELBPP7zDatW3K0CIQCE\n' +
  'zNVOFs9FKHsF0LQJJl1vdO2HD6lh3OtVzcS+SZEDAQ==\n' +
  '-----END CERTIFICATE-----\n';

/** PKCS#8 private key of the subcontractor ip-admin. */
const SUB_IP_ADMIN_KEY =
  '-----BEGIN PRIVATE KEY-----\n' +
  'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgF2GlBmilu5MSjg0E\n' +
  'vC7duyIqjSKwXxDUsqd63L/2VqOhRANCAARPgn3yq5YXyjBn+DtxeAIuwmr7xOp6\n' +
  'iYpEudjB1n3tpRPWHAFjE0tVwLPQviGUdXqArwUqM2H+nIf0JQeL3eVL\n' +
  '-----END PRIVATE KEY-----\n';

/** A DSI signer: the certificate the manifest is signed under and its private key. */
export interface DsiSigner {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** The OEM ip-admin of the unit tests (`USERS.oemAdmin`). */
export const OEM_IP_ADMIN: DsiSigner = { certificatePem: OEM_IP_ADMIN_CERT, privateKeyPem: OEM_IP_ADMIN_KEY };
/** The subcontractor's ip-admin of the unit tests (`USERS.subIpAdmin`), who would squat the OEM's DSI. */
export const SUB_IP_ADMIN: DsiSigner = { certificatePem: SUB_IP_ADMIN_CERT, privateKeyPem: SUB_IP_ADMIN_KEY };
