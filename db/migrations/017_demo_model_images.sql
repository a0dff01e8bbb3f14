-- The demo models' images are now built by the release (`npm run images`: podium-model-<id>,
-- tagged with Podium's version) where they used to name images nobody published. Only rows that
-- still hold the old placeholder change: an operator's own setting is kept.
UPDATE models SET container_image = 'podium-model-' || id || ':0.2.0'
 WHERE id IN ('echo', 'sentiment', 'fail')
   AND container_image = 'ghcr.io/podium/model-' || id || ':0.1.0';
