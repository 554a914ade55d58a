/** Which pass-through paths are file uploads (streamed, Provider.isUpload): never a generation. */
import t from 'tap';
import { isUploadPath as openaiUpload } from '../../../providers/openai/paths.js';
import { isUploadPath as geminiUpload } from '../../../providers/gemini/paths.js';

t.test('openai', async (t) => {
  for (const p of ['/v1/files', '/files', '/v1/uploads/upload_abc/parts', '/uploads/upload_abc/parts', '/v1//files']) t.ok(openaiUpload(p), p);
  for (const p of ['/v1/chat/completions', '/v1/files/file-1', '/v1/files/file-1/content', '/v1/uploads', '/v1/uploads/u/complete', '/v1/audio/transcriptions', '/v1/%2e%2e/files', '/v1/responses']) t.notOk(openaiUpload(p), p);
});

t.test('gemini', async (t) => {
  for (const p of ['/upload/v1beta/files', '/upload/v1beta/fileSearchStores/s:uploadToFileSearchStore']) t.ok(geminiUpload(p), p);
  for (const p of ['/v1beta/files', '/v1beta/models/gemini-2.5-flash:generateContent', '/upload/v1beta/models/gemini-2.5-flash:generateContent', '/upload', '/upload/%2e%2e/files']) t.notOk(geminiUpload(p), p);
});
